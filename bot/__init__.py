"""The application: settings, the command line, and the long-running process."""
