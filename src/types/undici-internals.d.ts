// Types for the parts of undici linkface loads one by one (see src/api/dispatcher.ts). Imported from an ES
// module, a CommonJS module is its default export.
declare module 'undici/lib/dispatcher/agent.js' {
  import { Agent } from 'undici';
  export default Agent;
}
declare module 'undici/lib/dispatcher/pool.js' {
  import { Pool } from 'undici';
  export default Pool;
}
declare module 'undici/lib/dispatcher/env-http-proxy-agent.js' {
  import { EnvHttpProxyAgent } from 'undici';
  export default EnvHttpProxyAgent;
}
declare module 'undici/lib/api/index.js' {
  import type { Dispatcher } from 'undici';
  const api: {
    request(this: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>;
    connect: Dispatcher['connect'];
  };
  export default api;
}
declare module 'undici/lib/interceptor/redirect.js' {
  import { interceptors } from 'undici';
  const redirect: typeof interceptors.redirect;
  export default redirect;
}
