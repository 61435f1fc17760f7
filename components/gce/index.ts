// The gce runtime edge (loaded on demand by ../step-ca.ts): network, Cloud SQL, and step-ca replicas behind a
// passthrough load balancer.
export { CaDatabase, type CaDatabaseArgs } from "./ca-database";
export { CaNetwork, type CaNetworkArgs } from "./ca-network";
export { StepCaReplicas, type StepCaReplicasArgs } from "./step-ca-replicas";
