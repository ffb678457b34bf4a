/**
 * Requests: parse manifests (JSONL, CSV, prompt lists) into requests or dead letters, drop
 * duplicate ids, resolve subjects and tiers against the model, expand into image tasks.
 */
package dev.odelt.transforms.requests;
