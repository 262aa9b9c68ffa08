// Carry ?next= into the form so the user lands where they were going (the server checks it
// again: only a path on this server). A file, not an inline script: the page's CSP forbids those.
"use strict";
const n = new URLSearchParams(location.search).getAll("next").pop();
if (n && n.startsWith("/") && !n.startsWith("//") && !n.includes("\\")) document.getElementById("next").value = n;
