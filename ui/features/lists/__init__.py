"""Marketing lists (issue 14, S1/S6): build a list of customers by purchase profile,
value segment, tier, store and key dates for one channel, see who is left out and why,
save it as a campaign, export it, and follow its return."""
