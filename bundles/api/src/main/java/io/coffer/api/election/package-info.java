/** Election: this node's view of the auto-failover cluster's leadership (etcd), its epoch and its members. */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.1.0")
package io.coffer.api.election;
