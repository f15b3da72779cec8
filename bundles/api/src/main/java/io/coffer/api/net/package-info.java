/** IP addresses and networks as Coffer compares them: literals only, never a DNS lookup; the
 * node's certificate for links between nodes. */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.2.0")
package io.coffer.api.net;
