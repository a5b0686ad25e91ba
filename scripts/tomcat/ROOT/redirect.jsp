<%@ page contentType="text/plain; charset=UTF-8" session="false" trimDirectiveWhitespaces="true" %>
<%
    response.sendRedirect("index.jsp?from=redirect");
    if (true) return;
%>
