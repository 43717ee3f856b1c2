/**
 * The engine's build and commit, for front ends to load when a build or
 * commit is asked for: their module graph holds the Containerfile parser
 * (an npm package), too heavy for every start of the CLI or the service.
 */
import { lazy } from "../runtime/lazy.ts";

/** The build code (src/engine/build.ts). */
export const buildCode = () =>
  lazy<typeof import("./build.ts")>("src/engine/build.ts");

/** The commit code (src/engine/commit.ts). */
export const commitCode = () =>
  lazy<typeof import("./commit.ts")>("src/engine/commit.ts");
