/**
 * Input and output: the output layout, PNG encoding, and the writers of images, image records, dead
 * letters and previews, all through {@link dev.odelt.storage.ObjectStore}.
 */
package dev.odelt.transforms.io;
