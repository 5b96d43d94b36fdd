"""Functions on demand: the reference checkout handler as a function, its runtime, the
local function site's front (spawns an instance per cold request, reaps idle ones) and
the client probe the `cold-start` workload runs on the load host."""
