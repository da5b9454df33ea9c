// Post-js for the Node build: hands the NODEFS file system to the TypeScript wrapper.
Module['NODEFS'] = typeof NODEFS !== 'undefined' ? NODEFS : undefined;
