/**
 * Coffer's shared contracts: the node's identity and role. Implementations live in bundles that export nothing.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.1.0")
package io.coffer.api;
