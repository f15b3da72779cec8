/** Replication: how a node streams from, or to, its peers. */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.2.0")
package io.coffer.api.replication;
