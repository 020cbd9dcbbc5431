// pnpm hooks for this workspace.
module.exports = {
  hooks: {
    // What `pnpm pack` / `pnpm publish` ship: a manifest without the workspace's development-only fields
    // (devDependencies name private workspace packages; scripts refer to files that are not shipped).
    beforePacking(pkg) {
      delete pkg.devDependencies;
      delete pkg.scripts;
      return pkg;
    },
  },
};
