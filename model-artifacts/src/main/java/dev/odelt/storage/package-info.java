/**
 * The project's object-store interface: read, write (atomically), list by glob and check objects by
 * location string. Local paths and {@code classpath:} live here; {@code gs://} is plugged in
 * through {@link java.util.ServiceLoader} by the transforms module.
 */
package dev.odelt.storage;
