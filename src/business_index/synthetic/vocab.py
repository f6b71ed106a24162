"""Word lists the generator draws from: Hackney-like streets and places, people and business names.

Street and place names are real Hackney names (public facts); businesses and people are invented
from common words and names, shaped like the FSA and Basildon records in shared/data.
"""

REAL_STREETS = (
    "MARE STREET", "KINGSLAND ROAD", "KINGSLAND HIGH STREET", "DALSTON LANE", "WELL STREET",
    "CHATSWORTH ROAD", "STOKE NEWINGTON HIGH STREET", "STOKE NEWINGTON CHURCH STREET", "AMHURST ROAD",
    "GRAHAM ROAD", "HACKNEY ROAD", "HOMERTON HIGH STREET", "LOWER CLAPTON ROAD", "UPPER CLAPTON ROAD",
    "BROADWAY MARKET", "MORNING LANE", "WICK ROAD", "VICTORIA PARK ROAD", "RIDLEY ROAD",
    "SHACKLEWELL LANE", "RECTORY ROAD", "BROOKE ROAD", "EVERING ROAD", "CAZENOVE ROAD",
    "CLAPTON COMMON", "OLD STREET", "HOXTON STREET", "PITFIELD STREET", "CURTAIN ROAD",
    "GREAT EASTERN STREET", "RIVINGTON STREET", "COLUMBIA ROAD", "HACKNEY DOWNS ROAD", "BALLS POND ROAD",
    "ESSEX ROAD", "SOUTHGATE ROAD", "DE BEAUVOIR ROAD", "QUEENSBRIDGE ROAD", "GOLDSMITHS ROW",
    "VYNER STREET", "MENTMORE TERRACE", "LONDON LANE", "SPURSTOWE TERRACE", "SANDRINGHAM ROAD",
    "ARCOLA STREET", "STAMFORD HILL", "CLAREMONT ROAD", "BRENTHAM CLOSE", "ASHWIN STREET",
    "PONSFORD STREET", "BROOKSBYS WALK", "SIDWORTH STREET", "KYNASTON ROAD", "SCRUTTON STREET",
    "PALATINE ROAD", "KING EDWARDS ROAD", "GIBSON GARDENS", "PROVOST STREET", "VESTRY STREET",
)
STREET_STEMS = (
    "ALBION", "ASTON", "BARRETT", "BEECHWOOD", "BELGRADE", "BERKSHIRE", "BRADSTOCK", "BRUNSWICK",
    "CADOGAN", "CAMBRIDGE", "CASSLAND", "CHARNOCK", "CHESHOLM", "CLIFDEN", "COLVESTONE", "CRAYFORD",
    "DARNLEY", "DERBY", "DUNCAN", "EGERTON", "ELRINGTON", "FASSETT", "FOULDEN", "FREMONT", "GLENARM",
    "GORE", "GREENWOOD", "HAGGERSTON", "HARTWELL", "HASSETT", "HOLLAR", "IVYDALE", "JUNCTION",
    "KENMURE", "LAVENDER", "LEABRIDGE", "LORDSHIP", "MALVERN", "MARTELLO", "MEHETABEL", "MILDMAY",
    "MORTIMER", "NAPOLEON", "NORTHWOLD", "OSBALDESTON", "PEMBURY", "PENSHURST", "QUEENSDOWN", "RAVENSDALE",
    "RUSHMORE", "SEWDLEY", "SHELLNESS", "SIGDON", "TRELAWNEY", "TYSSEN", "URSWICK", "VALETTE",
    "WARDLE", "WATTISFIELD", "WAYLAND", "WILTON", "WOODLAND", "YORKTON", "ZENOBIA", "CHALGROVE",
    "DURLSTON", "EDGAR", "FARLEIGH", "GLYN", "HILLMAN", "KINGSMEAD", "LINSCOTT", "MANOR", "NORCOTT",
)
STREET_SUFFIXES = (
    ("ROAD", 30), ("STREET", 22), ("GROVE", 5), ("AVENUE", 5), ("LANE", 5), ("PLACE", 4), ("TERRACE", 4),
    ("GARDENS", 4), ("CLOSE", 4), ("WALK", 3), ("SQUARE", 2), ("MEWS", 3), ("CRESCENT", 2), ("WAY", 2),
)
LOCALITIES = ("DALSTON", "HOMERTON", "CLAPTON", "STOKE NEWINGTON", "HOXTON", "SHOREDITCH", "HACKNEY WICK",
              "STAMFORD HILL", "DE BEAUVOIR", "HAGGERSTON", "LONDON FIELDS", "HACKNEY CENTRAL")
POSTCODE_DISTRICTS = ("E8", "E8", "E8", "E9", "E9", "E5", "E5", "N16", "N16", "N1", "E2", "EC2A")
POSTCODE_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
# When a very large borough fills Hackney's sectors, streets spill into the rest of London's.
OVERFLOW_DISTRICTS = tuple(f"E{i}" for i in range(1, 19)) + tuple(f"N{i}" for i in range(1, 23)) + \
    tuple(f"SE{i}" for i in range(1, 29)) + tuple(f"NW{i}" for i in range(1, 12))

FORENAMES = (
    "Mehmet", "Ali", "Mohammed", "Fatima", "Ayse", "John", "Joseph", "Mary", "Sarah", "David", "Daniel",
    "Chloe", "Olumide", "Adebayo", "Chen", "Wei", "Hyun", "Priya", "Rajesh", "Sandeep", "Kwame", "Ama",
    "Samuel", "Rachel", "Yosef", "Miriam", "Tomasz", "Agnieszka", "Luca", "Giulia", "Marcus", "Grace",
    "Emre", "Hasan", "Leyla", "Nguyen", "Thanh", "Abdul", "Aisha", "Patrick", "Siobhan", "Tariq",
)
SURNAMES = (
    "Yilmaz", "Kaya", "Demir", "Smith", "Jones", "Brown", "Taylor", "Patel", "Shah", "Khan", "Ahmed",
    "Hussain", "Okafor", "Adeyemi", "Mensah", "Owusu", "Chen", "Wang", "Kim", "Nguyen", "Tran",
    "Cohen", "Levy", "Friedman", "Kowalski", "Nowak", "Rossi", "Bianchi", "O'Brien", "Murphy",
    "Williams", "Davies", "Evans", "Wilson", "Thompson", "Robinson", "Walker", "Wright", "Green",
    "Hall", "Clarke", "Lewis", "Osei", "Boateng", "Celik", "Arslan", "Dogan", "Sahin", "Mahmood",
)
ADJECTIVES = (
    "Golden", "Royal", "Green", "Blue", "Red", "Silver", "Happy", "Lucky", "Little", "Grand", "New",
    "Old", "Urban", "Wild", "Sunny", "Crown", "Star", "Rose", "Lotus", "Jade", "Amber", "Crystal",
    "Fresh", "Prime", "Best", "Super", "Village", "Corner", "Oriental", "Mediterranean", "Anatolian",
)
NOUNS = (
    "Star", "Moon", "Garden", "Tree", "Oak", "Fox", "Lion", "Bee", "Olive", "Pepper", "Lemon", "Fig",
    "Pomegranate", "Dragon", "Phoenix", "Bridge", "Canal", "Market", "Harbour", "Anchor", "Crown",
    "Orchid", "Palm", "Cedar", "Maple", "Swan", "Robin", "Kettle", "Spoon", "Ladle", "Hive", "Acorn",
)
PUB_ANIMALS = ("Lion", "Swan", "Horse", "Stag", "Fox", "Eagle", "Hart", "Bull", "Dove", "Cock", "Greyhound")
PUB_THINGS = ("Crown", "Anchor", "Plough", "Harp", "Bell", "Compasses", "Castle", "Feathers", "Ship", "Mitre")

# business types by LLPG classification: (class code, weight, type words, licensable?)
BUSINESS_TYPES = (
    ("CR07", 14, ("Cafe", "Kitchen", "Restaurant", "Grill", "Bistro", "Canteen", "Mangal", "Pizzeria",
                  "Coffee House", "Brasserie", "Diner", "Ocakbasi", "Noodle Bar"), True),
    ("CR10", 9, ("Kebab House", "Fried Chicken", "Pizza", "Fish Bar", "Chinese Takeaway", "Chicken & Pizza",
                 "Burger Bar", "Jerk Centre"), True),
    ("CR08", 24, ("Food & Wine", "Supermarket", "Newsagent", "Hardware", "Barbers", "Hair Salon", "Nails",
                  "Launderette", "Dry Cleaners", "Phone Repairs", "Off Licence", "Bakery", "Butchers",
                  "Grocers", "Florist", "Pharmacy", "Opticians", "Bookshop", "Vintage", "Cycles"), True),
    ("CR06", 4, ("Arms", "Tavern", "Bar", "Inn"), True),
    ("CO01", 20, ("Solicitors", "Design Studio", "Architects", "Consulting", "Property Services",
                  "Accountants", "Media", "Recruitment", "Lettings", "Estate Agents", "Insurance Services"), False),
    ("CI03", 10, ("Motors", "Joinery", "Brewery", "Print", "Metalworks", "Furniture", "Tyres", "Bakery",
                  "Coffee Roasters", "Textiles"), True),
    ("CH01", 2, ("Hotel", "Guest House", "Hostel"), True),
    ("CM01", 4, ("Dental Practice", "Medical Centre", "Physiotherapy", "Pharmacy"), False),
    ("CL06", 3, ("Gym", "Fitness", "Yoga Studio", "Dance Studio", "Snooker Club"), True),
    ("CE01", 2, ("Nursery", "Tuition Centre", "Montessori"), True),
)
LEGAL_FORMS = (("LIMITED", 70), ("LTD", 10), ("PLC", 2), ("LLP", 4), ("CIC", 2), ("", 12))
LICENCE_TYPES = {
    "CR07": ("Premises Licence", "Food Business Registration", "Shop Front Trading", "Late Night Refreshment"),
    "CR10": ("Late Night Refreshment", "Food Business Registration", "Premises Licence"),
    "CR08": ("Premises Licence", "Shop Front Trading", "Food Business Registration"),
    "CR06": ("Premises Licence", "Shop Front Trading"),
    "CI03": ("Premises Licence", "Food Business Registration", "Scrap Metal Dealer"),
    "CH01": ("Premises Licence", "Food Business Registration"),
    "CL06": ("Premises Licence", "Special Treatment Licence"),
    "CE01": ("Food Business Registration", "Premises Licence"),
}
RESIDENTIAL_CLASSES = (("RD04", 40), ("RD06", 45), ("RD03", 10), ("RD02", 5))
VOA_DESCRIPTIONS = {
    "CR07": ("CR", "RESTAURANT AND PREMISES", "227"), "CR10": ("CS", "SHOP AND PREMISES", "249"),
    "CR08": ("CS", "SHOP AND PREMISES", "249"), "CR06": ("CP", "PUBLIC HOUSE AND PREMISES", "226"),
    "CO01": ("CO", "OFFICES AND PREMISES", "203"), "CI03": ("IF", "WORKSHOP AND PREMISES", "096"),
    "CH01": ("CH", "HOTEL AND PREMISES", "054"), "CM01": ("CO", "SURGERY AND PREMISES", "203"),
    "CL06": ("LX", "GYMNASIUM AND PREMISES", "011"), "CE01": ("ED", "NURSERY AND PREMISES", "074"),
}
