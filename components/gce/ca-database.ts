import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import * as random from "@pulumi/random";
import { DATABASE_NAME, DATABASE_USER, pgpassLine, stepCaDatabase } from "../../lib/gce/database";
import type { PostgresDatabase } from "../../lib/step-ca/ca-json";

/** Inputs of {@link CaDatabase}. */
export interface CaDatabaseArgs {
    project: pulumi.Input<string>;
    region: string;
    tier: string;
    /** The VPC the instance gets its private IP in. */
    network: pulumi.Input<string>;
    /** The private services peering; the instance is created after it. */
    privateServicesConnection: pulumi.Resource;
    /** `serviceAccount:…` of the CA: may connect through the Cloud SQL Auth Proxy, to this instance only. */
    client: pulumi.Input<string>;
}

/**
 * Cloud SQL for PostgreSQL, step-ca's shared database: regional (a standby in a second zone, automatic failover),
 * private IP only, TLS required, daily backups with point-in-time recovery. The VMs reach it through the Cloud SQL
 * Auth Proxy, which the CA's service account may use on this instance only (an IAM condition on `cloudsql.client`).
 *
 * The database user has a generated password rather than IAM database authentication: an IAM database user starts
 * with no privileges in PostgreSQL 15+ (not even CREATE on the public schema) and needs a SQL GRANT, which Pulumi
 * cannot issue on a private-IP instance. A built-in user may create its tables. The password is a Pulumi secret and
 * reaches the VMs only through Secret Manager (see {@link pgpassLine}).
 */
export class CaDatabase extends pulumi.ComponentResource {
    readonly instance: gcp.sql.DatabaseInstance;
    readonly database: gcp.sql.Database;
    readonly password: random.RandomPassword;
    readonly user: gcp.sql.User;
    readonly clientGrant: gcp.projects.IAMMember;
    /** `project:region:instance`, what the proxy connects to. */
    readonly connectionName: pulumi.Output<string>;
    /** ca.json `db`: the proxy on the VM's loopback, no password in it. */
    readonly stepCaDatabase: PostgresDatabase;
    /** A PGPASSFILE line for the proxy's address (secret). */
    readonly pgpass: pulumi.Output<string>;

    constructor(name: string, args: CaDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stepca:gce:CaDatabase", name, {}, opts);
        const parent = { parent: this };
        const { project, region } = args;

        this.instance = new gcp.sql.DatabaseInstance(
            name,
            {
                project,
                region,
                databaseVersion: "POSTGRES_16",
                deletionProtection: false,
                settings: {
                    tier: args.tier,
                    edition: "ENTERPRISE",
                    availabilityType: "REGIONAL",
                    ipConfiguration: { ipv4Enabled: false, privateNetwork: args.network, sslMode: "ENCRYPTED_ONLY" },
                    backupConfiguration: { enabled: true, pointInTimeRecoveryEnabled: true },
                    userLabels: { app: "step-ca" },
                },
            },
            { parent: this, dependsOn: [args.privateServicesConnection] },
        );
        this.database = new gcp.sql.Database(name, { project, instance: this.instance.name, name: DATABASE_NAME }, parent);
        this.password = new random.RandomPassword(name, { length: 32, special: false }, parent);
        this.user = new gcp.sql.User(
            name,
            { project, instance: this.instance.name, name: DATABASE_USER, type: "BUILT_IN", password: this.password.result },
            parent,
        );
        this.connectionName = this.instance.connectionName;
        this.clientGrant = new gcp.projects.IAMMember(
            `${name}-client`,
            {
                project,
                role: "roles/cloudsql.client",
                member: args.client,
                condition: {
                    title: "step-ca database only",
                    description: "The CA's service account connects to its own Cloud SQL instance, no other.",
                    expression: pulumi.interpolate`resource.name == "projects/${project}/instances/${this.instance.name}"`,
                },
            },
            parent,
        );
        this.stepCaDatabase = stepCaDatabase();
        this.pgpass = pulumi.secret(pulumi.interpolate`${pgpassLine()}${this.user.password}\n`);

        this.registerOutputs({ connectionName: this.connectionName });
    }
}
