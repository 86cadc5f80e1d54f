#!/usr/bin/python3
"""Writes webadmin/auth/common_passwords.txt: passwords people pick when told "at least 12
characters", built from typical words, keyboard walks, years and suffixes. Only entries of 12 or
more characters are kept (shorter ones are refused by length already). Deterministic."""
import itertools
import sys

WORDS = """password motdepasse azerty qwerty soleil bonjour admin administrateur hopital hospital
clinique medecin docteur infirmier infirmiere urgences patient sante welcome bienvenue
changeme changemoi secret secure securite system systeme utilisateur user login connexion
france paris marseille lyon toulouse lille bordeaux nantes strasbourg chocolat doudou
loulou chouchou jetaime iloveyou princesse football marseille liverpool arsenal dragon
monkey master shadow sunshine letmein trustno1 superman batman starwars pokemon nicolas
julien camille thomas sophie marie pierre jean manon lucas emma louis chloe hugo lea
informatique reseau serveur backup sauvegarde entrepot donnees data datawarehouse eds
edsnode box boite test testing demo exemple example default defaut""".split()

SUFFIXES = ["", "1", "12", "123", "1234", "12345", "123456", "!", "!!", "1!", "123!",
            "2020", "2021", "2022", "2023", "2024", "2025", "2026", "2027", "@2024",
            "@2025", "@2026", "#1", "01", "00", "007", "69", "99", "?", "*", "$"]

WALKS = ["azertyuiop", "qwertyuiop", "azertyuiopqsdfghjklm", "qwertyuiopasdfghjkl",
         "1qaz2wsx3edc", "1234567890", "0987654321", "123456789012", "azerty123456",
         "qwerty123456", "aqwzsxedcrfv", "zaq12wsxcde3", "abcdefghijkl", "abcdef123456",
         "111111111111", "000000000000", "123123123123", "121212121212", "azeqsdwxc123",
         "1q2w3e4r5t6y", "1a2z3e4r5t6y", "qazwsxedcrfv", "147258369147", "789456123789"]


def variants(word):
  yield word
  yield word.capitalize()
  yield word.upper()
  leet = word.replace("a", "@").replace("e", "3").replace("o", "0").replace("i", "1")
  yield leet
  yield leet.capitalize()


def main():
  out = set()
  for word in WORDS:
    for v, s in itertools.product(variants(word), SUFFIXES):
      out.add(v + s)
    for other in ("123", "2024", "2025"):
      out.add(word + word + other)
      out.add(word + word)
  for w in WALKS:
    for s in SUFFIXES[:8]:
      out.add(w + s)
      out.add(w.capitalize() + s)
  for a, b in itertools.product(WORDS[:40], ["123", "1234", "2024", "2025"]):
    out.add(a + "." + b + "!")
    out.add(a + "_" + b)
  kept = sorted(p for p in out if len(p) >= 12)
  sys.stdout.write("".join(p + "\n" for p in kept))


if __name__ == "__main__":
  main()
