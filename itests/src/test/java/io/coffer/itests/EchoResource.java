package io.coffer.itests;

import java.util.LinkedHashMap;
import java.util.Map;

import javax.ws.rs.GET;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.Produces;
import javax.ws.rs.core.MediaType;

/** A resource the test registers as a service, the way the write side's bundles join the API. */
@Path("/itest-echo")
@Produces(MediaType.APPLICATION_JSON)
public class EchoResource {
    @GET
    @Path("{account}/{kind}/{id: .+}")
    public Map<String, String> echo(@PathParam("account") String account, @PathParam("kind") String kind,
            @PathParam("id") String id) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("account", account);
        m.put("kind", kind);
        m.put("id", id);
        return m;
    }
}
