// The package under test: npm/dist (built by npm/build.mjs), as Node's `import` sees it.
export * from '../../../npm/dist/esm/node.js';
