"""Meeting reports: importing the platform's participant report to record online attendance."""
