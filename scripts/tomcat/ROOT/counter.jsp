<%@ page contentType="text/plain; charset=UTF-8" session="true" trimDirectiveWhitespaces="true" %>
<%
    Integer count = (Integer) session.getAttribute("count");
    count = (count == null) ? 1 : count + 1;
    session.setAttribute("count", count);
    String link = response.encodeURL(request.getContextPath() + "/counter.jsp");
%>
node=<%= System.getProperty("jvm.route", "?") %> session=<%= session.getId() %> count=<%= count %> link=<%= link %>
