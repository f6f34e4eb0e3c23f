"""The link chain as Sionna blocks: resource grid and pilots, transmitter, channels, link."""
