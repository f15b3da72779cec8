/** The node's database, available once its schema is current. */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.3.0")
package io.coffer.api.store;
