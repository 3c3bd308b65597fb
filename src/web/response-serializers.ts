// Response serializers (fast-json-stringify, Fastify's own), compiled once per process
// (compiled-once.ts): each app built compiled every route's response schema again, about a fifth of
// building one. A serializer depends on its schema and on the schemas its context shares ($ref), so
// both are in the key; what Fastify's own factory would compile is what is kept.
import { SerializerSelector } from "@fastify/fast-json-stringify-compiler";
import { compiledOnce } from "../compiled-once.js";

type SerializerFactory = ReturnType<typeof SerializerSelector>;
type Serializer = ReturnType<ReturnType<SerializerFactory>>;

const fastifyDefault = SerializerSelector();
const compiled = new Map<string, Serializer>();

/** For Fastify's `schemaController.compilersFactory.buildSerializer`. */
export const onceCompiledSerializers: SerializerFactory = (externalSchemas, options) => {
  const compile = fastifyDefault(externalSchemas, options);
  const context = JSON.stringify([externalSchemas ?? null, options ?? null]);
  return (route) =>
    compiledOnce(compiled, `${context}${JSON.stringify(route.schema ?? null)}`, () => compile(route));
};
