// A cache for what is compiled from a schema's text (request validators, response serializers):
// each app built asks for the same schemas again, and the tests build hundreds of apps in one
// process, so each text is compiled once per process and what it gave is handed out again.

/** What `compile` gave for `text` the first time `cache` was asked for it. */
export function compiledOnce<T>(cache: Map<string, T>, text: string, compile: () => T): T {
  let compiled = cache.get(text);
  if (compiled === undefined) {
    compiled = compile();
    cache.set(text, compiled);
  }
  return compiled;
}
