<%@ page contentType="text/plain; charset=UTF-8" session="false" trimDirectiveWhitespaces="true" %>
<%
    // Tomcat's default (useRelativeRedirects): Location: /app/session.jsp?x=1, a path.
    response.sendRedirect(request.getContextPath() + "/session.jsp?x=1");
    if (true) return;
%>
