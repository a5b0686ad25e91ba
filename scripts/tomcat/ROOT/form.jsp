<%@ page contentType="text/plain; charset=UTF-8" session="false" trimDirectiveWhitespaces="true" %>
<%-- Form parameters as Tomcat parses them (for a POST: from the body). --%><%
    String name = request.getParameter("name");
    String x = request.getParameter("x");
%>
name=<%= name %> x=<%= x %> content_length=<%= request.getContentLengthLong() %> transfer_encoding=<%= request.getHeader("Transfer-Encoding") %>
