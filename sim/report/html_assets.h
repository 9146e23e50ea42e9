// The inline CSS and script of mhcsim's HTML pages (html_page.cpp puts them in every page).
#pragma once

namespace mhc {

extern const char* const kPageCss;
extern const char* const kPageErrorTrap;  // first in <head>: records uncaught errors on <html>
extern const char* const kPageScript;     // last in <body>: zoom, self-check

}  // namespace mhc
