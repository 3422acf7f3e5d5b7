"""Check-in at the door: the scanner page for phones and the JSON it talks to."""
