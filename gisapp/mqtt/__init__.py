"""MQTT: the Mosquitto broker sensors publish to, its accounts, and the ingest subscriber."""
