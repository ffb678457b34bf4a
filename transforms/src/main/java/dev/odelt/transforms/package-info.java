/**
 * Beam transforms of the generation job, one package per stage: {@code requests} (parse, resolve,
 * expand), {@code batching}, {@code inference}, {@code io} (images, records, dead letters) and
 * {@code accounting}; {@link dev.odelt.transforms.JsonLines} formats the JSONL the stages write.
 */
package dev.odelt.transforms;
