// quiverdb's worker script with the worker's clock set back (clock-skew.js runs first: imports evaluate in order).
import './clock-skew.js';
import '../dist/esm/quiver-worker.js';
