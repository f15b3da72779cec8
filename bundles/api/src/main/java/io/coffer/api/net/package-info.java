/** IP addresses and networks as Coffer compares them: literals only, never a DNS lookup. */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.1.0")
package io.coffer.api.net;
