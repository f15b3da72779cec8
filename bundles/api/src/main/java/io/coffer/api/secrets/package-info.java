/** Secret values: versioned, sealed at rest. */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.1.0")
package io.coffer.api.secrets;
