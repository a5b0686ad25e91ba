<%@ page contentType="text/plain; charset=UTF-8" session="false" trimDirectiveWhitespaces="true" %>
<%
    // An absolute Location in the member's idea of its own URL (scheme, server name and port as
    // Tomcat sees them), as Tomcat writes it with useRelativeRedirects="false".
    response.setStatus(302);
    response.setHeader("Location", request.getScheme() + "://" + request.getServerName() + ":"
        + request.getServerPort() + request.getContextPath() + "/session.jsp?x=2");
    if (true) return;
%>
