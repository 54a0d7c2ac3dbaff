"""The hub's web pages: view-model tests in-process, and the pages in Chromium on a real hub."""
