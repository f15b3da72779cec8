package io.coffer.rest.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

import java.util.List;

import javax.ws.rs.GET;
import javax.ws.rs.HEAD;
import javax.ws.rs.POST;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;

import org.apache.cxf.jaxrs.model.ClassResourceInfo;
import org.apache.cxf.jaxrs.model.OperationResourceInfo;
import org.apache.cxf.jaxrs.utils.ResourceUtils;
import org.junit.Test;

public class RouteTemplatesTest {
    @Path("/secrets/{account}/{kind}/{id: .+}")
    public static class Secrets {
        @GET
        public String get(@PathParam("id") String id) {
            return id;
        }

        @POST
        public void post(@PathParam("id") String id) {
        }
    }

    @Path("/secrets")
    public static class Batch {
        @GET
        public String get() {
            return "";
        }
    }

    @Path("/authn/{account}")
    public static class Authn {
        @POST
        @Path("{login}/authenticate")
        public String authenticate(@PathParam("login") String login) {
            return login;
        }

        @GET
        @Path("login")
        public String login() {
            return "";
        }
    }

    private static final List<ClassResourceInfo> RESOURCES = List.of(
            ResourceUtils.createClassResourceInfo(Secrets.class, Secrets.class, true, true),
            ResourceUtils.createClassResourceInfo(Batch.class, Batch.class, true, true),
            ResourceUtils.createClassResourceInfo(Authn.class, Authn.class, true, true));

    @Test
    public void twoSecretIdsHaveOneLabelWithoutEitherId() {
        String a = RouteTemplates.match(RESOURCES, "GET", "/secrets/acme/variable/db%2Fpassword");
        String b = RouteTemplates.match(RESOURCES, "GET", "/secrets/acme/variable/prod/aws/key");
        assertEquals("/secrets/{account}/{kind}/{id}", a);
        assertEquals(a, b);
        assertEquals(a, RouteTemplates.match(RESOURCES, "POST", "/secrets/other/variable/x"));
        assertEquals("HEAD is answered by GET", a, RouteTemplates.match(RESOURCES, "HEAD", "/secrets/a/variable/x"));
    }

    @Test
    public void theMostLiteralTemplateWinsAndMethodsCount() {
        assertEquals("/secrets", RouteTemplates.match(RESOURCES, "GET", "/secrets"));
        assertEquals("/authn/{account}/{login}/authenticate",
                RouteTemplates.match(RESOURCES, "POST", "/authn/acme/host%2Fapp/authenticate"));
        assertEquals("/authn/{account}/login", RouteTemplates.match(RESOURCES, "GET", "/authn/acme/login"));
        assertNull("no POST on /secrets", RouteTemplates.match(RESOURCES, "POST", "/secrets"));
        assertNull(RouteTemplates.match(RESOURCES, "GET", "/nothing/here"));
        assertNull(RouteTemplates.match(RESOURCES, "GET", "/authn/acme/login/extra"));
    }

    @Test
    public void theChosenOperationIsLabelledByItsTemplate() {
        OperationResourceInfo ori = RESOURCES.get(2).getMethodDispatcher().getOperationResourceInfos().stream()
                .filter(o -> "POST".equals(o.getHttpMethod())).findFirst().get();
        assertEquals("/authn/{account}/{login}/authenticate", RouteTemplates.label(ori));
    }

    @Test
    public void regularExpressionsAreDroppedFromParameters() {
        assertEquals("/a/{id}/b/{x}", RouteTemplates.normalize("/a/{id: [a-z]{2,3}}/b/{ x }"));
        assertEquals("/plain", RouteTemplates.normalize("/plain"));
    }
}
