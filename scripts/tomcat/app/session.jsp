<%@ page contentType="text/plain; charset=UTF-8" session="true" trimDirectiveWhitespaces="true" %>
<%
    // In the /app context: the session cookie has Path=/app; one more cookie with Path=/app/sub.
    Cookie sub = new Cookie("sub", "1");
    sub.setPath(request.getContextPath() + "/sub");
    response.addCookie(sub);
%>
node=<%= System.getProperty("jvm.route", "?") %> session=<%= session.getId() %> context=<%= request.getContextPath() %>
