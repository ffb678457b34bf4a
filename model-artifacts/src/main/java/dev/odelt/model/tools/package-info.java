/** Command-line tools of the model library: micro-benchmarks of the network. */
package dev.odelt.model.tools;
