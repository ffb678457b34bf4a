/**
 * Solvers for the outer (time) ODE of ODE_t(ODE_l) sampling: fixed-step Euler, Heun, midpoint and
 * RK4, adaptive per-item Dormand–Prince 5(4), and classifier-free guidance as a velocity wrapper.
 * Solvers only see a {@link dev.odelt.model.solver.VelocityField}; they know nothing of networks.
 */
package dev.odelt.model.solver;
