// kubernetes-models and its runtime (@kubernetes-models/*, is-cidr, …) publish ESM only, behind the
// "import" export condition. Jest resolves with "require" (jest.preset.cjs); adding "import" for every
// package would pull other packages' ESM builds, so it is added for these alone (swc then compiles them
// to CommonJS: transformIgnorePatterns in jest.config.cjs).
const esmOnly = /^(kubernetes-models|@kubernetes-models\/[^/]+|is-cidr|cidr-regex|ip-regex)(\/|$)/;

module.exports = (request, options) =>
  options.defaultResolver(
    request,
    esmOnly.test(request) ? { ...options, conditions: [...(options.conditions ?? []), 'import'] } : options,
  );
