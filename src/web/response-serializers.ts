// Response serializers (fast-json-stringify, Fastify's own), compiled once per process. Each app
// built compiles every route's response schema again, and the tests build hundreds of apps: this
// was about a fifth of building one. A serializer depends on its schema and on the schemas its
// context shares ($ref), so both are in the key; what Fastify would compile is what is kept.
import { SerializerSelector } from "@fastify/fast-json-stringify-compiler";

type SerializerFactory = ReturnType<typeof SerializerSelector>;
type Serializer = ReturnType<ReturnType<SerializerFactory>>;

const fastifyDefault = SerializerSelector();
const compiled = new Map<string, Serializer>();

/** For Fastify's `schemaController.compilersFactory.buildSerializer`. */
export const onceCompiledSerializers: SerializerFactory = (externalSchemas, options) => {
  const compile = fastifyDefault(externalSchemas, options);
  const context = JSON.stringify([externalSchemas ?? null, options ?? null]);
  return (route) => {
    const key = `${context}${JSON.stringify(route.schema ?? null)}`;
    let serializer = compiled.get(key);
    if (!serializer) {
      serializer = compile(route);
      compiled.set(key, serializer);
    }
    return serializer;
  };
};
