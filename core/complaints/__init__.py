"""Complaints: the two-stage lifecycle the Complaint Handling Code prescribes."""
