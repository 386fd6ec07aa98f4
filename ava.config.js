// Tests run from the compiled output; `npm test` compiles first.
export default {
  files: ['dist/test/**/*.test.js'],
  timeout: '5m',
  concurrency: 2,
  workerThreads: false,
  verbose: true,
};
