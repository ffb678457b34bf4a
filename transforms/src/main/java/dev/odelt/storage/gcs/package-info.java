/**
 * Google Cloud Storage ({@code gs://}) behind the project's {@link dev.odelt.storage.ObjectStore}
 * interface, registered for {@link java.util.ServiceLoader} so any job reads and writes buckets
 * like local directories.
 */
package dev.odelt.storage.gcs;
