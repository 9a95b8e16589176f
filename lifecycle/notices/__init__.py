"""Telling people: reminders, the bell, e-mail, the weekly digest, the calendar feed."""
