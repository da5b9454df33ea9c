// Sets this worker's wall clock back by ?skew=<ms> of the script's URL (Date.now, which the engine's clock reads),
// before the package's worker script runs: a device whose clock is behind, for the stale_op test.
const skew = Number(new URL(self.location.href).searchParams.get('skew') ?? 0);
const realNow = Date.now;
Date.now = () => realNow() - skew;
