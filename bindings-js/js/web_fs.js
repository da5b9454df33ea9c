// Post-js for the browser build: hands the IDBFS file system to the TypeScript wrapper.
Module['IDBFS'] = typeof IDBFS !== 'undefined' ? IDBFS : undefined;
