<%@ page contentType="text/plain; charset=UTF-8" session="false" trimDirectiveWhitespaces="true" %>
<%
    // status.jsp?code=N: Tomcat's own error page for N (response.sendError).
    int code = 404;
    try { code = Integer.parseInt(request.getParameter("code")); } catch (RuntimeException e) { }
    response.sendError(code);
    if (true) return;
%>
