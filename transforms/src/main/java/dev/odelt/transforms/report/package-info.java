/**
 * The run report: {@code report.html}, one self-contained page (charts and contact sheets inlined,
 * no network) written after every run, and as a quote page after a plan.
 */
package dev.odelt.transforms.report;
