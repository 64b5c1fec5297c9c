import { tildify } from './paths.js';
import type { Source } from './types.js';

/**
 * Where a value came from, for `linkface config show` and error hints: `flag --api-id`, `env LINKFACE_API_ID`,
 * `env LINKFACE_API_SECRET_FILE (/run/secrets/lf)`, `file ~/proj/.linkfacerc (profiles.ci.apiId)`, `default`.
 * Paths under `homeDir`, when given, are shown with `~`.
 */
export function describeSource(source: Source, homeDir?: string): string {
  switch (source.kind) {
    case 'flag':
      return `flag ${source.name}`;
    case 'env':
      return source.key === undefined ? `env ${source.name}` : `env ${source.name} (${tildify(source.key, homeDir)})`;
    case 'file': {
      const file = `file ${tildify(source.name, homeDir)}`;
      return source.key === undefined ? file : `${file} (${source.key})`;
    }
    case 'default':
    case 'sandbox':
      return source.kind;
  }
}

/** Names a value's place in a message: `--timeout`, `LINKFACE_TIMEOUT`, `/p/.linkfacerc: profiles.ci.timeout`. */
export function labelOf(source: Source): string {
  return source.kind === 'file' && source.key !== undefined ? `${source.name}: ${source.key}` : source.name;
}
