/**
 * Command-line tools of the model library: micro-benchmarks of the network and {@link
 * dev.odelt.model.tools.VelocityTool}, one velocity evaluation on inputs in the reference's layout.
 */
package dev.odelt.model.tools;
